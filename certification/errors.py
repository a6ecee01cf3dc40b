"""Errors the domain raises (and models and validators below it): a message for the person who caused them,
translated at raise time."""


class DomainError(Exception):
    """A rule of the domain refused the change. ``status`` is the HTTP status a view answers with."""

    status = 409

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return str(self.message)


class NotEligible(DomainError):
    pass


class IllegalTransition(DomainError):
    pass


class NotAllowed(DomainError):
    status = 403


class InvalidInput(DomainError):
    status = 400
