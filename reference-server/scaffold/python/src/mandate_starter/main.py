"""Call the Mandate API as one agent, through the Python SDK (mandate-sdk).

The agent's id is its OAuth client id; its secret comes from the environment only, so it is
never written into this project (see README.md).
"""

from __future__ import annotations

import os
import sys

import mandate

AGENT_ID = "{{agentId}}"
# The server this project was downloaded from; MANDATE_BASE_URL points it elsewhere.
DEFAULT_BASE_URL = "{{baseUrl}}"


def secret_from_environment() -> str:
    secret = os.environ.get("MANDATE_CLIENT_SECRET", "").strip()
    if not secret:
        sys.exit(
            "MANDATE_CLIENT_SECRET is not set. Export the secret of one of the agent's credentials "
            f"(an admin creates one with POST /v1/agents/{AGENT_ID}/credentials), "
            "or put it in .env: see README.md."
        )
    return secret


def run() -> None:
    with mandate.Mandate(
        base_url=os.environ.get("MANDATE_BASE_URL") or DEFAULT_BASE_URL,
        client_id=AGENT_ID,
        client_secret=secret_from_environment(),
    ) as client:
        # {{#if readsAgents}}
        # The SDK's token manager gets an access token with the client-credentials grant
        # before this first call, and renews it before it expires. Reading itself needs
        # agents:read.
        agent = client.agents.get(AGENT_ID)
        print(agent.model_dump_json(indent=2, by_alias=True))
        print(f"OK: the agent {agent.name} ({agent.id}) read itself from the Mandate API.")
        # {{else}}
        # This agent does not hold agents:read, so it cannot read itself. Any agent may ask
        # about its own tokens, so it gets one (client-credentials grant) and introspects it.
        token = client.oauth.issue_token(grant_type="client_credentials")
        introspection = client.oauth.introspect(token=token.access_token)
        print(introspection.model_dump_json(indent=2, by_alias=True, exclude_none=True))
        if not introspection.active:
            sys.exit("the new access token introspected as inactive")
        print(
            f"OK: the agent {introspection.sub or AGENT_ID} holds an active access token "
            f"(scopes: {introspection.scope or 'none'})."
        )
        # {{/if}}


def main() -> None:
    try:
        run()
    except mandate.APIError as error:
        # The message carries the server's status and problem code.
        sys.exit(f"Mandate refused the call: {error}")


if __name__ == "__main__":
    main()
