"""Proposers for the external loop, registered by name (`numerate iterate --proposer NAME`). One file each."""

from numerate.iterate.proposers.base import PROPOSERS, Proposal, Proposer, Question
from numerate.registry import import_submodules

import_submodules(__name__, __path__)

__all__ = ["PROPOSERS", "Proposal", "Proposer", "Question"]
