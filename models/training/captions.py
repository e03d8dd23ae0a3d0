"""Caption grammar and query semantics for the shapes domain.

A caption is rendered from a *spec*: the groups it mentions, each with the attributes it
states (shape, colour, size, count, position; any may be left out), and optionally a
spatial relation between two mentioned groups. `satisfies(label, spec)` decides whether a
scene label makes the caption true; training uses it to know which captions in a batch are
true of which images (several can be), evaluation uses it to score retrieval hits.

Semantics (the same for training captions and evaluation queries):
  - a mentioned group matches a scene group that has every stated attribute; a stated count
    must be exact ("two red circles" is false of three red circles);
  - "A above B" / "A left of B": A and B match two different scene groups and the scene's
    relation places A's group above / left of B's group;
  - a caption that mentions one group of a two-group scene is true ("a red star" is true of
    a picture of a red star and a blue ring).
"""
from __future__ import annotations

import random

from scenes import COLOURS, SHAPES

COUNT_WORDS = {1: ["a", "one", "a single"], 2: ["two", "a pair of"], 3: ["three"]}
SIZE_WORDS = {"small": ["small", "little", "tiny"], "medium": ["medium", "medium-sized"], "large": ["large", "big"]}
COLOUR_WORDS = {c: [c] for c in COLOURS}
COLOUR_WORDS["gray"] = ["gray", "grey"]
COLOUR_WORDS["purple"] = ["purple", "violet"]
SHAPE_WORDS = {
    "circle": [("circle", "circles"), ("disc", "discs")],
    "square": [("square", "squares")],
    "triangle": [("triangle", "triangles")],
    "star": [("star", "stars")],
    "cross": [("cross", "crosses"), ("plus sign", "plus signs")],
    "ring": [("ring", "rings"), ("donut", "donuts")],
}
GENERIC_NOUN = ("shape", "shapes")
POSITION_WORDS = {
    "left": ["on the left", "at the left", "on the left side"],
    "right": ["on the right", "at the right", "on the right side"],
    "top": ["at the top", "near the top", "in the upper part"],
    "bottom": ["at the bottom", "near the bottom", "in the lower part"],
    "centre": ["in the centre", "in the center", "in the middle"],
}
PREFIXES = ["", "", "a photo of ", "an image of ", "a picture of ", "a drawing of ", "a rendering of "]
RELATION_WORDS = {  # (A relation B) phrasings, and the reversed (B ... A) ones
    "left_of": (["to the left of", "left of"], ["to the right of", "right of"]),
    "above": (["above", "over"], ["below", "under"]),
}
# Prompt templates for zero-shot classification and the evaluation's attribute queries.
CLASSIFY_TEMPLATES = ["a photo of {}.", "a picture of {}.", "{}"]
EXTRA_WORDS = ["colored", "coloured", "in", "and", "with", "there", "is", "are", "of", "the", "a", "an", "shape",
               "shapes", "object", "objects", "picture", "photo", "image", "drawing", "scene", "showing", "on",
               "at", "near", "this", "it", "one", "some", "kind", "something", ".", ",", "!", "?", "-", "'s",
               "just", "only", "single", "thing", "things", "figure", "figures"]


def lexicon() -> list[str]:
    """Every word the grammar, the templates and the evaluation queries can produce."""
    words = set(EXTRA_WORDS)
    for table in (COUNT_WORDS, SIZE_WORDS, COLOUR_WORDS, POSITION_WORDS):
        for variants in table.values():
            for v in variants:
                words.update(v.split())
    for variants in SHAPE_WORDS.values():
        for sg, pl in variants:
            words.update(sg.split() + pl.split())
    for p in PREFIXES:
        words.update(p.split())
    for fwd, rev in RELATION_WORDS.values():
        for v in fwd + rev:
            words.update(v.split())
    for t in CLASSIFY_TEMPLATES:
        words.update(t.replace("{}", " ").replace(".", " . ").split())
    return sorted(words)


# -- rendering a spec as text --------------------------------------------------------------

def group_phrase(g: dict, rng: random.Random) -> str:
    count = g.get("count")
    plural = count is not None and count > 1
    noun = rng.choice(SHAPE_WORDS[g["shape"]]) if "shape" in g else GENERIC_NOUN
    noun = noun[1] if plural else noun[0]
    words = []
    if count is not None:
        words.append(rng.choice(COUNT_WORDS[count]))
    size = rng.choice(SIZE_WORDS[g["size"]]) if "size" in g else None
    colour = rng.choice(COLOUR_WORDS[g["colour"]]) if "colour" in g else None
    style = rng.random()
    if colour and style < 0.12:  # "a small circle in red"
        words += [w for w in (size, noun) if w] + ["in", colour]
    elif colour and style < 0.2:  # "a small red-coloured circle" -> "a small red colored circle"
        words += [w for w in (size, colour, rng.choice(["colored", "coloured"]), noun) if w]
    else:
        words += [w for w in (size, colour, noun) if w]
    if count is None:  # bare "red shapes" reads badly; "a"/"some" keeps it a noun phrase
        words.insert(0, "a" if not plural else "some")
    text = " ".join(words)
    if text.startswith("a ") and text[2] in "aeiou":
        text = "an " + text[2:]
    return text


def render_caption(spec: dict, rng: random.Random) -> str:
    groups = spec["groups"]
    prefix = rng.choice(PREFIXES)
    first = groups[0]
    if spec.get("relation"):
        a, b = groups
        fwd, rev = RELATION_WORDS[spec["relation"]]
        if rng.random() < 0.5:
            body = f"{group_phrase(a, rng)} {rng.choice(fwd)} {group_phrase(b, rng)}"
        else:
            first = b
            body = f"{group_phrase(b, rng)} {rng.choice(rev)} {group_phrase(a, rng)}"
    else:
        parts = []
        for g in groups:
            p = group_phrase(g, rng)
            if "position" in g:
                where = rng.choice(POSITION_WORDS[g["position"]])
                if len(groups) == 1 and rng.random() < 0.2:  # "on the left, two red circles"
                    return f"{where}, {p}"
                p = f"{p} {where}"
            parts.append(p)
        body = " and ".join(parts)
    if prefix == "" and rng.random() < 0.1:
        body = ("there are " if first.get("count", 1) > 1 else "there is ") + body
    return prefix + body


# -- specs of a scene's true captions -----------------------------------------------------

def _mention(g: dict, keep: tuple) -> dict:
    return {k: g[k] for k in keep if k in g}


def caption_specs(label: dict, rng: random.Random, n: int = 6) -> list[dict]:
    """`n` true specs for a scene, from most to least detailed."""
    objs = label["objects"]
    full = ("shape", "colour", "size", "count", "position")
    specs = []
    if len(objs) == 1:
        g = objs[0]
        specs = [
            {"groups": [_mention(g, full)]},
            {"groups": [_mention(g, ("shape", "colour", "count", "position"))]},
            {"groups": [_mention(g, ("shape", "colour", "size", "count"))]},
            {"groups": [_mention(g, ("shape", "colour", "count"))]},
            {"groups": [_mention(g, rng.choice([("colour", "count", "position"), ("shape", "count", "position"),
                                                ("shape", "size", "count"), ("shape", "colour", "position")]))]},
            {"groups": [_mention(g, rng.choice([("shape", "colour"), ("colour", "count"), ("shape", "count"),
                                                ("shape", "colour", "size")]))]},
        ]
    else:
        a, b = objs
        rel = label["relation"]
        det = ("shape", "colour", "size", "count")
        specs = [
            {"groups": [_mention(a, det), _mention(b, det)], "relation": rel},
            {"groups": [_mention(a, ("shape", "colour", "count")), _mention(b, ("shape", "colour", "count"))], "relation": rel},
            {"groups": [_mention(a, ("shape", "colour", "count", "position")), _mention(b, ("shape", "colour", "count", "position"))]},
            {"groups": [_mention(a, ("shape", "colour", "count")), _mention(b, ("shape", "colour", "count"))], "relation": rel},
            {"groups": [_mention(rng.choice(objs), ("shape", "colour", "count", "position"))]},
            {"groups": [_mention(rng.choice(objs), rng.choice([("shape", "colour", "count"), ("shape", "colour", "size", "count")]))]},
        ]
    return specs[:n]


def captions_for(label: dict, n: int = 6, seed: str = "") -> list[tuple[str, dict]]:
    rng = random.Random(f"captions/{label['id']}/{seed}")
    return [(render_caption(s, rng), s) for s in caption_specs(label, rng, n)]


# -- truth -------------------------------------------------------------------------------

def _group_matches(scene_group: dict, g: dict) -> bool:
    return all(scene_group[k] == v for k, v in g.items())


def satisfies(label: dict, spec: dict) -> bool:
    objs = label["objects"]
    groups = spec["groups"]
    if spec.get("relation"):
        if label["relation"] != spec["relation"] or len(objs) != 2:
            return False
        # objects[0] is left of / above objects[1] in the scene; the spec says groups[0] rel groups[1].
        return _group_matches(objs[0], groups[0]) and _group_matches(objs[1], groups[1])
    if len(groups) == 1:
        return any(_group_matches(o, groups[0]) for o in objs)
    if len(objs) < 2:
        return False
    return (_group_matches(objs[0], groups[0]) and _group_matches(objs[1], groups[1])) or (
        _group_matches(objs[1], groups[0]) and _group_matches(objs[0], groups[1]))


# -- hard negatives ----------------------------------------------------------------------

OPPOSITE = {"left": "right", "right": "left", "top": "bottom", "bottom": "top"}
# How often each attribute is the one changed, relative to colour and size: colour is learnt
# first and easily (accuracy 1.0 early), shape, position and count are not, so the negatives
# that differ only in those are the ones worth the batch's room.
NEGATIVE_WEIGHT = {"shape": 3, "position": 2, "count": 2}


def perturb(spec: dict, rng: random.Random) -> dict:
    """The spec with exactly one thing changed: a colour, shape, count, size or position
    of one group, or the two groups of a relation swapped (composition)."""
    import copy

    s = copy.deepcopy(spec)
    choices = []
    for gi, g in enumerate(s["groups"]):
        for k in g:
            choices += [(gi, k)] * NEGATIVE_WEIGHT.get(k, 1)
    if s.get("relation") or len(s["groups"]) == 2:
        choices += [("swap", None)] * 2
    if len(s["groups"]) == 2:  # swapping colours between objects: same words, different meaning
        a, b = s["groups"]
        if "colour" in a and "colour" in b and a["colour"] != b["colour"]:
            choices += [("swapcolour", None)] * 2
    gi, key = rng.choice(choices)
    if gi == "swap":
        if s.get("relation"):
            s["groups"].reverse()
        else:
            a, b = s["groups"]
            if "position" in a and "position" in b:
                a["position"], b["position"] = b["position"], a["position"]
            else:
                return perturb(spec, rng)
        return s
    if gi == "swapcolour":
        a, b = s["groups"]
        a["colour"], b["colour"] = b["colour"], a["colour"]
        return s
    g = s["groups"][gi]
    if key == "colour":
        g["colour"] = rng.choice([c for c in COLOURS if c != g["colour"]])
    elif key == "shape":
        g["shape"] = rng.choice([c for c in SHAPES if c != g["shape"]])
    elif key == "count":
        g["count"] = rng.choice([c for c in (1, 2, 3) if c != g["count"]])
    elif key == "size":
        g["size"] = rng.choice([c for c in ("small", "medium", "large") if c != g["size"]])
    elif key == "position":
        pos = g["position"]
        g["position"] = OPPOSITE.get(pos) if (pos != "centre" and rng.random() < 0.7) else rng.choice(
            [p for p in ("left", "right", "top", "bottom", "centre") if p != pos])
    return s
