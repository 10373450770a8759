import { Alert, Button, Code, Group, Stack, Text } from '@mantine/core';
import { Component, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

/** Catches a page that throws while rendering: the error and a reload button take its place, and the shell stays usable. */
export class PageErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <Alert color="red" title="This page failed" role="alert" data-testid="page-error">
        <Stack gap="sm">
          <Text size="sm">The console hit an error while showing this page. Other pages still work from the menu.</Text>
          <Code block>{error.message}</Code>
          <Group>
            <Button size="xs" onClick={() => window.location.reload()}>
              Reload
            </Button>
            <Button size="xs" variant="default" onClick={() => this.setState({ error: null })}>
              Try again
            </Button>
          </Group>
        </Stack>
      </Alert>
    );
  }
}
