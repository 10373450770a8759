import { Alert, Center, Loader } from '@mantine/core';
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

/**
 * What a page shows while its data loads or when the api refused: the refusal's message and code, never a blank page.
 * A live page (`hasData`) whose refresh failed keeps its last figures under a warning: one failed poll never blanks it.
 */
export function QueryState({ loading, error, children, hasData = false }: { loading: boolean; error: unknown; children: ReactNode; hasData?: boolean }) {
  if (error && hasData) {
    return (
      <>
        <Alert color="yellow" title="Refresh failed: showing the last figures" role="status">
          {errorText(error)}
        </Alert>
        {children}
      </>
    );
  }
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
