import { Alert, Center, Loader } from '@mantine/core';
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

/** What a page shows while its data loads or when the api refused: the refusal's message and code, never a blank page. */
export function QueryState({ loading, error, children }: { loading: boolean; error: unknown; children: ReactNode }) {
  if (error) {
    const message = error instanceof ApiError ? `${error.message} (${error.code})` : String(error);
    return (
      <Alert color="red" title="The api refused" role="alert">
        {message}
      </Alert>
    );
  }
  if (loading) {
    return (
      <Center p="xl">
        <Loader />
      </Center>
    );
  }
  return <>{children}</>;
}

export function errorText(error: unknown): string {
  return error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error);
}
