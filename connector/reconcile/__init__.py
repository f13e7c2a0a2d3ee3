"""Reconciling a source with the phonebook: phone and name normalisation, matching, the plan."""
