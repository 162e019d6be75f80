"""PostgreSQL: schema migrations, repositories, the unit of work and the outbox."""
