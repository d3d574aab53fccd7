"""Cognito's errors, one class per AWS error code. Both services (cognito-idp, cognito-identity) answer every
one of them with HTTP 400 and a JSON 1.1 `__type` (the "Errors" section of each operation in
https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/ and
https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/)."""

from __future__ import annotations

from localcore.http.errors import CodedError


class CognitoError(CodedError):
    """Any error cognito-idp or cognito-identity answers."""


class InvalidParameterException(CognitoError):
    pass


class NotAuthorizedException(CognitoError):
    pass


class ResourceNotFoundException(CognitoError):
    pass


class UserNotFoundException(CognitoError):
    pass


class UsernameExistsException(CognitoError):
    pass


class InvalidPasswordException(CognitoError):
    pass


class CodeMismatchException(CognitoError):
    pass


class LimitExceededException(CognitoError):
    pass


class UserNotConfirmedException(CognitoError):
    pass


class GroupExistsException(CognitoError):
    pass
