"""Engine: runs the rule families over the functions a patch touches and keeps what it introduces.

Flow position: judgement.  `findings` defines what a finding is, `rule` the base classes rule
families build on, `registry` loads the families, `review` drives a series or a scan.
"""
