"""The generative backends behind one interface: an OpenAI-compatible server (recorded vLLM exchanges,
replayed on loopback), the scripted fake model through the whole assistant (citing [7] of 3 passages,
citing nothing, refusing, writing the follow-up question), and llama.cpp in-process with the Gemma smoke model."""

import json

import pytest

from assistant.service import Assistant, Turn
from conftest import ScriptedLLM, needs_llamacpp, scripted_assistant, with_settings
from settings import load_settings

JAPAN = "Wer leitete die Wirtschaftsdelegation nach Japan?"
MODEL = "Qwen/Qwen2.5-7B-Instruct"
OPENAI_OK = {("GET", "/v1/models"): (200, "openai_models.json"), ("POST", "/v1/chat/completions"): (200, "openai_chat.json")}


def _assistant(sample_ws, env=None, **llm) -> Assistant:
    return Assistant(with_settings(sample_ws, env, llm=llm))


# --- OpenAI-compatible server --------------------------------------------------------------------------

def test_openai_compatible_answer_with_citations_checked(replay, sample_ws):
    url, seen = replay(OPENAI_OK)
    env = {"DELEGATIONS_OPENAI_BASE_URL": f"{url}/v1", "DELEGATIONS_OPENAI_MODEL": MODEL, "DELEGATIONS_OPENAI_API_KEY": "k-123"}
    answer = _assistant(sample_ws, env).answer(JAPAN, backend="openai")
    request = next(body for method, path, body in seen if path == "/v1/chat/completions")
    assert request["model"] == MODEL and [m["role"] for m in request["messages"]] == ["system", "user"]
    assert "[1]" in request["messages"][1]["content"] and JAPAN in request["messages"][1]["content"]
    assert answer.backend == "openai" and answer.answer.startswith("Die Delegation nach Japan leitete Wirtschaftsbürgermeister Uwe Albrecht [1].")
    assert "[7]" not in answer.answer and all(c.n <= len(answer.contexts) for c in answer.citations)
    assert answer.generation == "repaired" and any("[7]" in n for n in answer.notices)


def test_openai_compatible_streaming_over_sse(replay, sample_ws):
    url, seen = replay({**OPENAI_OK, ("POST", "/v1/chat/completions"): (200, "openai_chat_stream.sse")})
    env = {"DELEGATIONS_OPENAI_BASE_URL": f"{url}/v1", "DELEGATIONS_OPENAI_MODEL": MODEL}
    events = list(_assistant(sample_ws, env).stream(JAPAN, backend="openai"))
    assert next(body for _, path, body in seen if path == "/v1/chat/completions")["stream"] is True
    final = events[-1]["answer"]
    assert final["answer"].startswith("Die Delegation nach Japan leitete Uwe Albrecht [1].")
    assert "Brasilien" not in final["answer"]  # passage [3] is not about Brazil: the sentence is dropped
    assert "".join(e["text"] for e in events if e["type"] == "delta") in final["answer"]


@pytest.mark.parametrize("routes, expected", [
    ({("GET", "/v1/models"): (200, "openai_models.json")}, "does not serve the model gpt-4o; it serves Qwen/Qwen2.5-7B-Instruct"),
    ({("GET", "/v1/models"): (200, "ollama_tags.json")}, "did not answer in the OpenAI format"),
    ({("GET", "/v1/models"): (401, "openai_model_missing.json")}, "refused the API key"),
])
def test_openai_compatible_server_problems_are_one_line(replay, routes, expected):
    from assistant.llms import GenerationError, make_model

    url, _ = replay(routes)
    env = {"DELEGATIONS_OPENAI_BASE_URL": f"{url}/v1", "DELEGATIONS_OPENAI_MODEL": "gpt-4o"}
    with pytest.raises(GenerationError, match=expected):
        make_model("openai", load_settings(env=env)).chat([("user", "Wer?")])


@pytest.mark.parametrize("chat, expected", [
    ((200, "proxy_502.html"), "failed: "),  # a proxy's error page with status 200
    ((200, "openai_chat.json", 5), "did not answer in time"),  # slower than request_timeout_s
])
def test_openai_compatible_server_garbage_or_slow_falls_back_then_recovers(replay, sample_ws, chat, expected):
    routes = {**OPENAI_OK, ("POST", "/v1/chat/completions"): chat}
    url, _ = replay(routes)
    env = {"DELEGATIONS_OPENAI_BASE_URL": f"{url}/v1", "DELEGATIONS_OPENAI_MODEL": MODEL}
    assistant = _assistant(sample_ws, env, openai={"request_timeout_s": 1})
    answer = assistant.answer(JAPAN, backend="openai")
    assert answer.generation == "fallback_backend_failed" and expected in answer.notices[0] and answer.citations
    assert "\n" not in answer.notices[0]
    routes[("POST", "/v1/chat/completions")] = (200, "openai_chat.json")
    assert assistant.answer(JAPAN, backend="openai").generation == "repaired"


def test_openai_compatible_server_down_falls_back_with_a_notice(sample_ws):
    env = {"DELEGATIONS_OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "DELEGATIONS_OPENAI_MODEL": MODEL}
    answer = _assistant(sample_ws, env).answer(JAPAN, backend="openai")
    assert answer.generation == "fallback_backend_failed" and "http://127.0.0.1:9/v1 is not reachable" in answer.notices[0]
    assert "Uwe Albrecht" in answer.answer and answer.citations


# --- scripted fake LLMs through the assistant ----------------------------------------------------------

def _scripted(sample_ws, *replies, fallback=True):
    llm = ScriptedLLM(*replies)
    return scripted_assistant(sample_ws, llm, fallback=fallback), llm


def test_fake_citing_seven_of_three_passages_never_shows_seven(sample_ws):
    reply = "Sie besuchte Tokio [7]. Uwe Albrecht leitete die Wirtschaftsdelegation [1][7]."
    assistant, llm = _scripted(sample_ws, reply, reply)
    answer = assistant.answer(JAPAN, backend="ollama", top_k=3)
    assert len(answer.contexts) == 3 and "[7]" not in answer.answer
    assert answer.answer == "Uwe Albrecht leitete die Wirtschaftsdelegation [1]." and answer.generation == "repaired"
    assert answer.citations[0].passage.doc_id == "leipzig-japan"
    assert answer.citations[0].quotes == ["Uwe Albrecht leitete die Wirtschaftsdelegation."]
    events = list(assistant.stream(JAPAN, backend="ollama", top_k=3))
    assert not any("[7]" in e.get("text", "") for e in events) and "[7]" not in events[-1]["answer"]["answer"]
    system, user = llm.history[0]
    assert system[0] == "system" and "[1]" in user[1] and "[4]" not in user[1] and JAPAN in user[1]  # top_k=3: no 4th


def test_fake_citing_nothing_falls_back_or_refuses_per_setting(sample_ws):
    uncited = "Die Delegation unter Uwe Albrecht war in Japan sehr erfolgreich."
    assistant, _ = _scripted(sample_ws, uncited)
    answer = assistant.answer(JAPAN, backend="ollama")
    assert answer.generation == "fallback_no_valid_citation" and answer.citations
    assert "Uwe Albrecht" in answer.answer and any("without a citation" in n for n in answer.notices)
    strict, _ = _scripted(sample_ws, uncited, fallback=False)
    answer = strict.answer(JAPAN, backend="ollama")
    assert answer.generation == "no_valid_citation" and answer.refused and not answer.citations
    assert answer.answer == "Dazu finde ich nichts in den Artikeln."


def test_fake_refusal_is_marked(sample_ws):
    strict, _ = _scripted(sample_ws, "Dazu finde ich nichts in den Artikeln.", fallback=False)
    answer = strict.answer(JAPAN, backend="ollama")
    assert answer.refused and answer.generation == "model_refused" and not answer.citations


def test_the_model_is_not_asked_what_the_articles_cannot_say(sample_ws):
    assistant, llm = _scripted(sample_ws, "Die Delegation reiste nach Peru [1].")
    answer = assistant.answer("Wer leitete die Delegation nach Peru?", backend="ollama")
    assert answer.refused and answer.generation == "not_in_corpus" and llm.history == []


def test_follow_up_is_condensed_by_the_model_with_the_condense_prompt(sample_ws):
    assistant, llm = _scripted(sample_ws, "Wer leitete die Leipziger Wirtschaftsdelegation nach Japan?",
                               "Uwe Albrecht leitete die Wirtschaftsdelegation [1].")
    history = [Turn("user", "Welche Reise endete mit einem Konzert?"),
               Turn("assistant", "Die Reise der Leipziger Wirtschaftsdelegation nach Japan [1].")]
    answer = assistant.answer("Wer leitete sie?", history=history, backend="ollama")
    condense_prompt = llm.history[0][0][1]
    assert "Folgefrage: Wer leitete sie?" in condense_prompt and "Assistent: Die Reise der Leipziger" in condense_prompt
    assert answer.standalone_question == "Wer leitete die Leipziger Wirtschaftsdelegation nach Japan?"
    assert answer.contexts[0].doc_id == "leipzig-japan"
    assert "Wer leitete die Leipziger" in llm.history[1][1][1]  # the answer prompt asks the standalone question


def test_a_follow_up_whose_conversation_names_the_subject_costs_no_rewrite_by_the_model(sample_ws):
    assistant, llm = _scripted(sample_ws, "Die Delegation kehrte im November 2019 zurück [1].")
    history = [Turn("user", JAPAN), Turn("assistant", "Uwe Albrecht leitete sie [1].")]
    answer = assistant.answer("Wann war das?", history=history, backend="ollama")
    assert len(llm.history) == 1  # the answer only: the earlier question names Japan, the rules carry it
    assert "Japan" in answer.standalone_question and answer.contexts[0].doc_id == "leipzig-japan"
    assert "Wann war das?" in llm.history[0][1][1]


# --- llama.cpp in-process ------------------------------------------------------------------------------



@needs_llamacpp
def test_llamacpp_with_the_gemma_smoke_model_end_to_end(tmp_path, sample_ws):
    """A 270M base model cannot answer; what is proven is the path: the prompt through llama.cpp's gemma
    template, the text back, and citations held to the passages whatever it wrote."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    settings = tmp_path / "settings.yaml"
    settings.write_text(f"data_dir: {sample_ws.settings.data_dir}\nllm:\n  llamacpp:\n    max_tokens: 64\n")
    env = {**os.environ, "DELEGATIONS_SETTINGS": str(settings)}
    env.pop("DELEGATIONS_LLAMACPP_MODEL", None)
    run = subprocess.run([sys.executable, "-m", "cli", "ask", "Wer leitete die Delegation nach Japan?", "--backend",
                          "llamacpp", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["backend"] == "llamacpp" and len(answer["contexts"]) == 5
    assert answer["generation"] in {"checked", "repaired", "model_refused", "fallback_model_refused", "unanswered",
                                    "fallback_no_valid_citation", "no_valid_citation", "fallback_unanswered"}
    cited = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", answer["answer"])}
    assert cited <= {c["n"] for c in answer["citations"]} and all(1 <= n <= len(answer["contexts"]) for n in cited)
    assert run.stderr == ""  # llama.cpp's loading chatter stays off the terminal


@needs_llamacpp
def test_llamacpp_bad_settings_are_one_line(tmp_path):
    from assistant.llms import GenerationError, make_model

    missing = load_settings(env={"DELEGATIONS_LLAMACPP_MODEL": str(tmp_path / "nope.gguf")})
    with pytest.raises(GenerationError, match="nope.gguf does not exist"):
        make_model("llamacpp", missing)
    with pytest.raises(GenerationError, match="Unknown chat format 'gemma9'"):
        make_model("llamacpp", load_settings(env={}, llm={"llamacpp": {"chat_format": "gemma9"}}))
