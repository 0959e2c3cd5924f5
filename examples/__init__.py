"""Example scripts run by `sluice demo`, shipped as package data."""
