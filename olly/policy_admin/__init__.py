"""People and accounts: Party, PartyRole and Account (billing entity: a group or a household)."""
