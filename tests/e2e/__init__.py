"""End-to-end checks with real platform clients (the M365 Agents Playground in headless Chromium)."""
