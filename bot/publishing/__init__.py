"""The flow library in the database: versions, reviewed changes, publishing, live reload, preview.

Layer 5, between the cases (4) and ops (6): it delivers review notifications through the cases
layer's Outbox and Notifier port, and ops reads the live library version from it.

- ``tables``: library versions, change requests, reviews, review notifications (migration 0008)
- ``snapshot``: the files that make up a library, read from a folder or written back out
- ``versions``: publishing and reading whole-library versions; seeding from the flows folder
- ``authoring``: who may submit, review, preview (settings ``authoring:``)
- ``checks``: validate and scenario tests on a draft library
- ``diff``: a change in words (questions, options, outcomes, advice before and after)
- ``model``: a change request and its reviews; ``scope``: which flows a change touches
- ``changes``: submit, approve, reject, rollback (the rules), the one API every adapter calls
- ``notices``: "a change waits for your review" notifications, through the outbox
- ``live``: every replica swaps in a newly published version within seconds
- ``preview``: an engine on a draft, every reply marked, nothing escalated to anyone
"""
