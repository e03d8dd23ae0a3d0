#!/usr/bin/env python3
"""Generates the SentencePiece tokenizer fixtures and their expected ids.

    /usr/bin/python3 tools/dev/generate_sentencepiece_fixtures.py

Needs Debian's python3-sentencepiece (0.1.97) and python3-protobuf; nothing here needs torch.
Tiny models are trained here on text written here (synthetic caption-like sentences plus the
committed corpus test/fixtures/tokenizer-corpus/corpus.jsonl), so no data set is copied.

Writes, under test/fixtures/:
  tiny-siglip/        spiece.model (Unigram, ids <pad>=0 </s>=1 <unk>=2), tokenizer_config.json
                      (SiglipTokenizer), config.json (model_type siglip, 64 positions)
  tiny-xlmr/          sentencepiece.bpe.model (BPE, <unk>=0 <s>=1 </s>=2, identity normalizer), tokenizer_config.json
                      (XLMRobertaTokenizer), config.json (model_type xlm-roberta, 514 positions)
  tiny-unigram-json/  tokenizer.json only: the tiny-siglip model converted the way transformers'
                      SpmConverter does (Precompiled charsmap + collapse spaces + strip, Metaspace,
                      Unigram vocab with scores, "$A </s>" template), and no .model file
  sentencepiece-expected.jsonl
                      one object per test string: {"text", "siglip", "xlmr", "unigram"} — the ids
                      each tokenizer must produce (framed, truncated, unpadded), computed with the
                      sentencepiece Python package as transformers' slow tokenizers use it:
                        siglip:  SiglipTokenizer: text = "▁" + text.replace("▁", " "); lower();
                                 drop string.punctuation; collapse \\s+; strip; encode
                                 "<unk>" + text with add_dummy_prefix=False and drop the pieces
                                 of "<unk>"; truncate to 63; append </s>
                        xlmr:    <s> + (id + 1, unk -> 3) + </s>, truncated to 512
                        unigram: sp.encode(text) + </s>, truncated to 77
                      plus "siglip_decoded" / "xlmr_decoded": sp.decode of the text ids.
"""
import base64
import io
import json
import random
import re
import string
import sys
from pathlib import Path

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "test" / "fixtures"
SPIECE_UNDERLINE = "▁"

corpus = [json.loads(l) for l in open(FIX / "tokenizer-corpus" / "corpus.jsonl", encoding="utf-8")]

# --- training text -------------------------------------------------------------------------
rng = random.Random(4)
subjects = ["a dog", "two children", "a woman", "the man", "a black cat", "three girls", "a boy", "an old man",
            "a brown dog", "a group of people", "a surfer", "a little girl", "two men", "a bird", "a baby",
            "un chien", "une femme", "ein Hund", "eine Frau", "un niño", "una mujer", "犬", "猫", "女の子", "男性"]
verbs = ["is running through", "are playing in", "is jumping over", "sits on", "is climbing", "walks along",
         "is swimming in", "stands next to", "is riding a bike down", "looks at", "court dans", "läuft über",
         "corre por", "が走っている", "を見ている"]
objects = ["the grass", "a muddy puddle", "the snow", "a wooden fence", "the beach", "a busy street", "the water",
           "a red building", "the playground", "a rock wall", "the stairs", "a field of flowers", "la plage",
           "den Schnee", "el parque", "公園", "海"]
train = []
for _ in range(6000):
    s = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}"
    if rng.random() < 0.5:
        s = s.capitalize() + rng.choice([".", " .", "!", ",", ""])
    train.append(s)
train += [s for s in corpus if 0 < len(s) <= 300]


def train_model(**kwargs) -> bytes:
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(train), model_writer=out, num_threads=1,
                                   shuffle_input_sentence=False, input_sentence_size=0,
                                   character_coverage=0.995, hard_vocab_limit=False, minloglevel=2, **kwargs)
    return out.getvalue()


siglip_model = train_model(model_type="unigram", vocab_size=1500, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                           pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>")
xlmr_model = train_model(model_type="bpe", vocab_size=1500, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
                         normalization_rule_name="identity")  # keeps the fixture small; XLM-R itself uses nmt_nfkc


def write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


write(FIX / "tiny-siglip" / "spiece.model", siglip_model)
write(FIX / "tiny-siglip" / "tokenizer_config.json", {
    "tokenizer_class": "SiglipTokenizer", "model_max_length": 64, "do_lower_case": True,
    "eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"})
write(FIX / "tiny-siglip" / "config.json", {"model_type": "siglip", "text_config": {"max_position_embeddings": 64}})
write(FIX / "tiny-xlmr" / "sentencepiece.bpe.model", xlmr_model)
write(FIX / "tiny-xlmr" / "tokenizer_config.json", {
    "tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
    "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"})
write(FIX / "tiny-xlmr" / "config.json", {"model_type": "xlm-roberta", "max_position_embeddings": 514})

# --- tokenizer.json with a Unigram model (transformers' SpmConverter layout) -------------------
proto = pb.ModelProto()
proto.ParseFromString(siglip_model)
vocab = [[p.piece, p.score] for p in proto.pieces]
specials = [i for i, p in enumerate(proto.pieces) if p.type in (pb.ModelProto.SentencePiece.CONTROL, pb.ModelProto.SentencePiece.UNKNOWN)]
tokenizer_json = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [{"id": i, "content": proto.pieces[i].piece, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True} for i in specials],
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode()},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
        {"type": "Strip", "strip_left": True, "strip_right": True},
    ]},
    "pre_tokenizer": {"type": "Metaspace", "replacement": SPIECE_UNDERLINE, "prepend_scheme": "always", "split": True},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                       "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                                {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                       "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
    "decoder": {"type": "Metaspace", "replacement": SPIECE_UNDERLINE, "prepend_scheme": "always", "split": True},
    "model": {"type": "Unigram", "unk_id": 2, "vocab": vocab, "byte_fallback": False},
}
write(FIX / "tiny-unigram-json" / "tokenizer.json", tokenizer_json)

# --- expected ids ------------------------------------------------------------------------
sp_siglip = spm.SentencePieceProcessor(model_proto=siglip_model)
# SiglipTokenizer.get_spm_processor: normalizer_spec.add_dummy_prefix = False.
proto_nodummy = pb.ModelProto()
proto_nodummy.ParseFromString(siglip_model)
proto_nodummy.normalizer_spec.add_dummy_prefix = False
sp_siglip_hf = spm.SentencePieceProcessor(model_proto=proto_nodummy.SerializeToString())
sp_xlmr = spm.SentencePieceProcessor(model_proto=xlmr_model)
PUNCT = str.maketrans("", "", string.punctuation)


def siglip_ids(text: str):
    text = SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " ")
    text = text.lower()
    text = text.translate(PUNCT)
    text = re.sub(r"\s+", " ", text).strip()
    unk_len = len(sp_siglip_hf.encode("<unk>"))
    ids = sp_siglip_hf.encode("<unk>" + text)
    ids = ids[unk_len:] if len(ids) >= unk_len else ids
    return ids[:63] + [sp_siglip.eos_id()]


def xlmr_ids(text: str):
    ids = [3 if i == sp_xlmr.unk_id() else i + 1 for i in sp_xlmr.encode(text)]
    return [0] + ids[:510] + [2]


def unigram_ids(text: str):
    return sp_siglip.encode(text)[:76] + [sp_siglip.eos_id()]


tests = [s for s in corpus if len(s) <= 120] + [s for s in corpus if len(s) > 2000][:4]
with open(FIX / "sentencepiece-expected.jsonl", "w", encoding="utf-8") as f:
    for s in tests:
        f.write(json.dumps({
            "text": s,
            "siglip": siglip_ids(s),
            "xlmr": xlmr_ids(s),
            "unigram": unigram_ids(s),
            "siglip_decoded": sp_siglip.decode(sp_siglip.encode(s)),
            "xlmr_decoded": sp_xlmr.decode(sp_xlmr.encode(s)),
        }, ensure_ascii=False) + "\n")
print(f"{len(tests)} strings; siglip vocab {sp_siglip.get_piece_size()}, xlmr vocab {sp_xlmr.get_piece_size()}")
