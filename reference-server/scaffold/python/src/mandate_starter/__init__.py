"""A starter that calls the Mandate API as the agent {{agentId}}."""
