"""Proofs that a trained model is right on every problem of every length (`numerate verify`).

field.py derives what each query can see from the architecture, cases.py enumerates the finite set of cases, and
prove.py checks them and writes the certificate. docs/verification.md states the argument and its assumptions.
"""
