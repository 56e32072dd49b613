/** Who speaks a message of a conversation. */
export type Role = "system" | "user" | "assistant";

/** One message of a conversation, as providers send it and datasets hold it. */
export interface Message {
  role: Role;
  content: string;
}
