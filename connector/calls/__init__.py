"""Call history: answered calls named from the phonebook, recordings and transcripts."""
