"""Excel (.xlsx) import and export. Cell-level safety helpers every workbook module uses are in `cells`."""
