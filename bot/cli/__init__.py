"""The ``policybot`` command line."""
