"""Example agents of the demo support domain: triage -> refunds -> writer -> sender.

Each module exposes ``agent``; run one replica with, from the repository root::

    corps agent run services.support_agents.triage:agent --topology topology/support.yaml

The agents share a stand-in for the company's helpdesk and payment systems (:mod:`.helpdesk`), because
the events of the choreography carry decisions, not every fact a later step needs (the refund amount,
the customer's address).
"""
