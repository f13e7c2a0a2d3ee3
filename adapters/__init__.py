"""Source adapters: each turns one kind of file into SourceRecords."""
