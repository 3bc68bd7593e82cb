"""CRM Studio's desktop front end: a thin PySide6 layer over crm_core's public API."""
