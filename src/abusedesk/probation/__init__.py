"""Rehabilitation: probation measured on the lake against the policy's goals; the account
graduates or is escalated back to its case by itself, and the customer is told either way."""
