"""Reports that read saved panels and fits (never refit); reference tables from the paper live in reference/."""
