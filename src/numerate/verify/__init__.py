"""Proofs that a trained model is right on every problem of every length (`numerate verify`).

gate.py says which models the argument covers, field.py derives what each query can see from the architecture,
cases.py enumerates the finite set of cases, bounding.py bounds each with an enclosure (enclosure.py, meanvalue.py),
prove.py runs the pipelines and gives the verdict, and certificate.py writes the certificate. docs/verification.md
states the argument and its assumptions.
"""
