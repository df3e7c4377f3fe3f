"""Languages: policybot in English and Welsh (and any other language a council adds).

Part of layer 1. ``languages`` names the languages and reads a platform's locale;
``catalog`` holds the interface strings (notices, buttons, case notifications, console words) in
gettext catalogues managed with Babel, compiled when first used; ``flow_texts`` reads the
translations a flow carries beside its English and ``flow_translations`` checks them (missing,
stale, broken templates); ``po_files`` writes and reads the PO files translators work in.
docs/languages.md explains it for a comms officer and a translator.
"""
