"""Who may do what: users and service accounts, their roles, passwords, tokens and sign-in."""
