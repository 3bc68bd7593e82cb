"""Training CRM: data and coarse-mask synthesis, losses, the loop and its command line (crm-train)."""
