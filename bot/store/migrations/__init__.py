"""Alembic migration scripts for the policybot database, shipped inside the package.

They are run programmatically by ``bot.store.migrate`` when the store opens (and by
``policybot db upgrade``), so an installed bot needs no alembic.ini or source checkout.
"""
