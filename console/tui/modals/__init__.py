"""Modal screens: confirmation, help, quit-while-running."""
