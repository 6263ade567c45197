"""A pure evaluator for W3C ODRL 2.2 policies in the reelrights profile.

Parse once, evaluate many times::

    from reelrights.core.odrl import DutyResult, Request, evaluate, parse_policy

    policy = parse_policy(json.loads(text))          # raises InvalidPolicy (exit 2)
    decision = evaluate(policy, Request("train", "urn:reelrights:bundle:B",
                                        date_time=now, spatial="US",
                                        model_family="urn:reelrights:model-family:X"),
                        oracle)                       # oracle.fulfilled(duty, request)
    if not decision.allowed:
        raise PolicyDenied(decision.explain())

The profile (``https://reelrights.dev/odrl/profile/v1``) ships as
``reelrights/profile/odrl-profile.jsonld``; docs/odrl-profile.md describes it. Nothing here does
I/O except reading that packaged file once.
"""

from .constraints import Atomic, Constraint, Logical
from .evaluate import evaluate
from .model import Decision, Duty, DutyOracle, DutyResult, Policy, Reason, Request, Rule
from .parse import parse_policy
from .project import to_cawg_training_mining, to_tdmrep
from .territory import REGIONS, Territory, parse_territory
from .vocab import CONTEXT_IRI, ODRL, PROFILE_IRI, RR, InvalidPolicy, load_profile

__all__ = [
    "Atomic", "CONTEXT_IRI", "Constraint", "Decision", "Duty", "DutyOracle", "DutyResult",
    "InvalidPolicy", "Logical", "ODRL", "PROFILE_IRI", "Policy", "REGIONS", "RR", "Reason",
    "Request", "Rule", "Territory", "evaluate", "load_profile", "parse_policy",
    "parse_territory", "to_cawg_training_mining", "to_tdmrep",
]
