"""An example app that extends aana's ``VideoEntity`` and owns its own migrations."""
