"""Where events enter: one folder per source. Each translates raw input into typed events and
decides nothing; correlation happens in handlers/ and domain/."""
