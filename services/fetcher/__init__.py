"""The fetcher stage: sources (feeds, sitemaps, pages, files) polled politely and turned into clean articles."""
