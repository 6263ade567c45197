"""The registry: parties, works, credits, assets, the deployment's establishment and usage reports."""
