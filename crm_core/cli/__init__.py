"""Command-line front ends of crm_core: crm-refine (one photo or a BIG folder) and crm-eval (score a BIG folder)."""
