"""Billing: premium invoices, payments, grace periods and claim payments."""
