"""Layer 7, the ``policybot`` command line. May import anything in bot; nothing in bot imports it."""
