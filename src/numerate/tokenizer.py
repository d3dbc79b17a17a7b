"""Character tokenizer with an explicit, saved vocabulary.

Ids 0 and 1 are `<pad>` and `<eos>`; then one id per character. Positional schemes get `digit_ids` from here
instead of guessing which ids are digits.
"""

from __future__ import annotations

PAD, EOS = "<pad>", "<eos>"
DIGITS = "0123456789"


class CharTokenizer:
    def __init__(self, chars: str | list[str]):
        chars = list(dict.fromkeys(chars))  # keep order, drop repeats
        self.vocab: list[str] = [PAD, EOS] + chars
        self.stoi = {s: i for i, s in enumerate(self.vocab)}
        self.pad_id, self.eos_id = 0, 1

    @classmethod
    def from_vocab(cls, vocab: list[str]) -> "CharTokenizer":
        if vocab[:2] != [PAD, EOS]:
            raise ValueError(f"vocabulary must start with {PAD}, {EOS}")
        return cls(vocab[2:])

    def __len__(self) -> int:
        return len(self.vocab)

    @property
    def digit_ids(self) -> list[int]:
        return [self.stoi[d] for d in DIGITS if d in self.stoi]

    def id_of(self, char: str) -> int:
        return self.stoi[char]

    def encode(self, text: str) -> list[int]:
        try:
            return [self.stoi[c] for c in text]
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids, stop_at_eos: bool = True) -> str:
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos_id and stop_at_eos:
                break
            if i in (self.pad_id, self.eos_id):
                continue
            out.append(self.vocab[i])
        return "".join(out)
