"""Tests for the Microsoft Teams adapter, run against local fake Bot Connector and Graph servers."""
