// SPDX-License-Identifier: Apache-2.0
import React from 'react';
import { EuiButton, EuiCallOut, EuiText } from '@elastic/eui';

interface Props {
  title: string;
  /** The server's message (ErrorBody.message), which says what was wrong. */
  message: string;
  onRetry: () => void;
}

/** A failed request: what failed, the server's reason, and a way to try again. */
export function ErrorState({ title, message, onRetry }: Props) {
  return (
    <EuiCallOut title={title} color="danger" iconType="error" data-test-subj="threatflowErrorState">
      <EuiText size="s">
        <p data-test-subj="threatflowErrorMessage">{message}</p>
      </EuiText>
      <EuiButton color="danger" size="s" onClick={onRetry} data-test-subj="threatflowRetry">
        Retry
      </EuiButton>
    </EuiCallOut>
  );
}
