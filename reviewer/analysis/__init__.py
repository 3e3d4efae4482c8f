"""Analysis: the path walker, its abstract state, symbolic values and the API knowledge tables.

Flow position: between C understanding (reviewer.c) and the rules (reviewer.rules).
"""
