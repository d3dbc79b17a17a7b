"""A check the page-program tests share: form pages are laid out as the proof reads them."""

import random

import torch

from numerate.tasks.page_program import form_page, form_targets


def assert_form_pages_laid_out(bundle, program, count: int = 200) -> None:
    """Each of `count` form pages: every token sits where the scheme's layout puts it (row and column), with its
    row's kind, and the page has a target (its field's rule) for every cell from its first query row on."""
    scheme, tok = bundle.model.scheme, bundle.tok
    forms, rng = list(program.forms(program.form_width)), random.Random(0)
    for _ in range(count):
        page, first = form_page(program, forms, rng)
        text = "".join(page.line(r) for r in range(len(page.rows)))
        rows, cols, _, kinds = (t[0].tolist() for t in scheme.page_layout(torch.tensor([tok.encode(text)])))
        i = 0
        for r in range(len(page.rows)):
            for c in sorted(page.rows[r]):
                opener = None if page.variants[r] is None else tok.id_of(page.variants[r])
                assert (rows[i], cols[i], kinds[i]) == (r, c, scheme.line_kind(r, opener))
                i += 1
        assert len(form_targets(program, page, first)) == sum(len(page.rows[r]) for r in range(first, len(page.rows)))
