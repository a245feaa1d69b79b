"""People and machines that use tuoguan: users, API tokens, console sessions, roles."""
