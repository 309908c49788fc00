/** Errors the dashboard throws on purpose; each carries a stable `code` and the HTTP status it maps to. */
export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly statusCode: number;
}

export class MallNotFoundError extends AppError {
  readonly code = 'MALL_NOT_FOUND';
  readonly statusCode = 404;
  constructor(mallId: string) {
    super(`unknown mall "${mallId}"`);
  }
}

export class InvalidQueryError extends AppError {
  readonly code = 'INVALID_QUERY';
  readonly statusCode = 400;
}

export class DuplicateMallError extends AppError {
  readonly code = 'DUPLICATE_MALL';
  readonly statusCode = 500;
  constructor(mallId: string) {
    super(`two layouts share the mall id "${mallId}"`);
  }
}
