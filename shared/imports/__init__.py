"""Imports: data from elsewhere (other installs, other products) into Beacon."""
