"""Presentation: tables, previews, reports and exports. The only place besides cli that renders."""
