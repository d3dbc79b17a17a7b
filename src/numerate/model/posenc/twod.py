"""2-D positions: a column (significance, as coupled ids) and a row (which number the token belongs to).

People add numbers written one above the other: digits of equal significance form a column, and each number is a
row. A transformer reads one line, so here each token gets both coordinates explicitly:

- column: the coupled digit id (significance + 1, plus an offset), used through a learned relative bias on the
  column offset, with keys more than `rel_clip` columns away masked out (as in `coupling-local`);
- row: the number of separator tokens before it (0 for the first operand, 1 for the second, 2 for the answer),
  added to the token embedding from a small learned table.

Neither coordinate grows with the length of the numbers, so nothing the model sees at 1000 digits is new.
"""

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import WithRows
from numerate.model.posenc.relative import CouplingLocal


@SCHEMES.register("coupling-2d", "2-D: column = coupled digit id (local relative bias), row = which number")
class Coupling2D(WithRows, CouplingLocal):
    depends_on = frozenset({"column-offset", "row"})

    def embed(self, pos):
        return self.rows(pos[..., 1])

    def bias(self, pos_q, pos_k):
        return super().bias(pos_q[..., 0], pos_k[..., 0])
