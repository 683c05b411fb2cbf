"""Beacon Analytics dashboard: a Streamlit app over the query layer."""
