"""The embedded default answerer: no language model, it quotes the sentences of the retrieved passages that
answer the question, whole and in reading order, each with its citation marker, and nothing else.

It answers only from articles that mention what the question names (the Assistant has refused when none
does), and refuses when no sentence matches what is asked.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer import Citation, Draft, refusal
from assistant.answerer import Prepared, Settled, Turn
from assistant.evidence import stated_values, states
from assistant.ranking import Candidate, neighbour, rank
from ingest.sentences import refers_back

MIN_SCORE = 1.5  # below this no sentence matches the question well enough to quote
KEEP_MARGIN = 6.0  # further sentences are quoted when they score within this of the best one
MAX_SENTENCES = {"who": 3, "where": 3, "what": 3, "when": 3, "count": 3, "amount": 3}


class ExtractiveAnswerer(Settled):
    def condense(self, question: str, history: list[Turn], lang: str) -> str:
        return ""  # the rule-based standalone question is what it searches with

    def answer(self, p: Prepared) -> Draft:
        q, passages = p.q, p.retrieval.passages
        usable = p.evidence.usable
        if not passages or not usable:
            return p.evidence.refusal(q) or refusal(q.lang)
        candidates = rank(p)
        if not candidates or candidates[0].score < MIN_SCORE:
            return refusal(q.lang)
        top = candidates[0]
        good = top.score - KEEP_MARGIN
        most = MAX_SENTENCES[q.kind]
        chosen = [c for c in candidates[:most] if c is top or c.score >= good]
        # further sentences that state the asked slot ("Wer begleitete …?": the fifth-best names two more companions),
        # up to `most` stating ones; they are quoted but never lead (leading with them put the answering sentence
        # first less often: XQuAD-de dev 0.822 -> 0.816)
        added: list[Candidate] = []
        if q.slot is not None:
            stating = sum(_stating(p, c) for c in chosen)
            for c in candidates[most:]:
                if stating >= most or c.score < good:
                    break
                if _stating(p, c):
                    added.append(c)
                    stating += 1
        chosen += added
        quoted = {c.passage.doc_id for c in chosen}
        for doc in (d for d in usable if d not in quoted):  # another article answers too: quote it as well
            best = next((c for c in candidates if c.passage.doc_id == doc), None)
            if best and best.score >= good and best.rank < len(passages):
                chosen.append(best)
        for c in list(chosen):
            before, after = neighbour(c, candidates, -1), neighbour(c, candidates, +1)
            if before and before not in chosen and refers_back(c.sentence):
                chosen.append(before)  # "Das Unternehmen ist ...": quote the sentence that names it
            if after and after not in chosen and refers_back(after.sentence):
                chosen.append(after)  # "... Dies wird als antigene Variation bezeichnet.": what it goes on to say
        return _compose(*_asked_first(p, chosen, added), q.lang)


def _asked_first(p: Prepared, chosen: list[Candidate], added: Sequence[Candidate] = ()) -> tuple[list[Candidate], Candidate | None, list[str]]:
    """The sentences to quote with the one that states what was asked first (the best-scored of those that
    state the asked slot, assistant.evidence.states; else the best-scored one); sentences that state nothing of it are left out, but a
    sentence that leans on a kept one ("Er …") stays with it. Also the values the lead states (the names,
    places, dates asked for), for an English lead sentence. The `added` sentences never lead."""
    q = p.q
    best = max(chosen, key=lambda c: c.score, default=None)  # without a sentence of the asked slot: the best one leads
    if q.slot is None:  # a noun asked for outside the slots ("Welche Themen …"): the best-scored sentence leads (its
        # score already counts the noun asked for; putting a sentence that names the noun first as well led with a
        # sentence about something else more often: XQuAD-de dev, answering sentence first 0.797 -> 0.822 without it)
        return chosen, best, []

    kept = [c for c in chosen if _stating(p, c)]
    if best is not None and best not in kept:
        # the best sentence states the answer in words the check does not read ("vor 66 Millionen Jahren",
        # "selten"): it stays, and leads unless a sentence of its own article states the slot
        kept = [c for c in kept if c.passage.doc_id == best.passage.doc_id]
        if not kept:
            return chosen, best, []
    # the lead: the best-scored sentence that states the slot (its score already weighs the relation asked about
    # and the noun asked for; ranking them first as well put the answering sentence first less often: XQuAD-de dev,
    # 0.788 -> 0.810 of the answers that quote it)
    lead = max((c for c in kept if c not in added), key=lambda c: c.score, default=best)
    if best is not None and best not in kept:
        kept.append(best)
    near = {(c.passage.doc_id, c.order[0], c.order[1] + step) for c in kept for step in (-1, 1)}
    kept += [c for c in chosen if c not in kept and (c.passage.doc_id, *c.order) in near and
             (refers_back(c.sentence) or any(refers_back(k.sentence) for k in kept))]
    return [c for c in chosen if c in kept], lead, stated_values(q, lead.sentence, lead.entities, lead.passage.date)


def _stating(p: Prepared, c: Candidate) -> bool:
    """Whether the sentence states the asked slot (assistant.evidence.states)."""
    return states(p.q, c.sentence, c.entities, tuple(p.register_quotes.get(c.passage.doc_id, ())), published=c.passage.date)


def _compose(chosen: list[Candidate], lead: Candidate | None, values: list[str], lang: str) -> Draft:
    """Quote the chosen sentences, the lead first, the others in reading order (article by article), each
    followed by its marker. An English question gets an English lead naming what the quotes state."""
    doc_order = list(dict.fromkeys(c.passage.doc_id for c in chosen))
    # the lead comes first even when it leans on the sentence before it ("Mit 39 Jahren ist er …"): that sentence,
    # which says who "er" is, follows it at once (the asked thing first, as users read answers)
    leans_on = next((c for c in chosen if lead is not None and refers_back(lead.sentence) and
                     c.passage.doc_id == lead.passage.doc_id and c.order == (lead.order[0], lead.order[1] - 1)), None)
    first = {id(c): i for i, c in enumerate((lead, leans_on)) if c is not None}
    chosen = sorted(chosen, key=lambda c: (first.get(id(c), 2), doc_order.index(c.passage.doc_id), c.order))
    numbers: dict[str, int] = {}
    citations: dict[str, Citation] = {}
    parts = []
    for c in chosen:
        key = c.passage.chunk_id
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            citations[key] = Citation(numbers[key], c.passage)
        citations[key].quotes.append(c.sentence)
        parts.append(f"{c.sentence} [{numbers[key]}]")
    text = " ".join(parts)
    if lang == "en":
        text = (f"{'; '.join(values)} — as the articles say (quoted in German): {text}" if values
                else f"The articles say (quoted in German): {text}")
    return Draft(text, False, list(citations.values()))
