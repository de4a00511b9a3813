// Small word lists for synthetic titles, names and descriptions, half Cyrillic,
// half Latin, like a real Russian-and-foreign film catalogue.

export interface Language {
  /** Title patterns: `{adjective} {noun}`-style pieces joined in the language's order. */
  adjectives: readonly string[];
  nouns: readonly string[];
  titleLinks: readonly string[];
  sequelMarks: readonly string[];
  firstNames: readonly string[];
  lastNames: readonly string[];
  descriptionOpenings: readonly string[];
  descriptionEndings: readonly string[];
}

export const russian: Language = {
  // Masculine adjectives with masculine nouns keep the grammar right.
  adjectives: ["Тихий", "Последний", "Тёмный", "Северный", "Золотой", "Далёкий", "Забытый", "Красный", "Белый", "Старый", "Горячий", "Новый"],
  nouns: ["город", "берег", "ветер", "путь", "сад", "остров", "рассвет", "мост", "дом", "поезд", "лес", "свет"],
  titleLinks: [" и ", ": "],
  sequelMarks: [" 2", " 3", ". Часть вторая", ". Возвращение"],
  firstNames: ["Иван", "Анна", "Сергей", "Мария", "Алексей", "Елена", "Дмитрий", "Ольга", "Андрей", "Наталья", "Михаил", "Татьяна", "Павел", "Ирина", "Никита", "Светлана"],
  lastNames: ["Иванов", "Петрова", "Смирнов", "Кузнецова", "Соколов", "Попова", "Лебедев", "Козлова", "Новиков", "Морозова", "Волков", "Павлова", "Фёдоров", "Орлова", "Зайцев", "Белова"],
  descriptionOpenings: ["История о том, как", "Фильм рассказывает, как", "Однажды", "В маленьком городе", "Много лет спустя"],
  descriptionEndings: [
    "герой находит дорогу домой.",
    "друзья раскрывают старую тайну.",
    "семья учится прощать.",
    "всё меняется за одну ночь.",
    "случайная встреча меняет судьбу.",
  ],
};

export const english: Language = {
  adjectives: ["Silent", "Last", "Dark", "Northern", "Golden", "Distant", "Forgotten", "Red", "White", "Old", "Burning", "New"],
  nouns: ["City", "Shore", "Wind", "Road", "Garden", "Island", "Dawn", "Bridge", "House", "Train", "Forest", "Light"],
  titleLinks: [" and ", ": "],
  sequelMarks: [" 2", " 3", ": Part Two", " Returns"],
  firstNames: ["John", "Emma", "Michael", "Olivia", "David", "Sophia", "James", "Isabella", "Robert", "Mia", "William", "Charlotte", "Thomas", "Grace", "Daniel", "Lucy"],
  lastNames: ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright"],
  descriptionOpenings: ["A story of how", "The film tells how", "One day", "In a small town", "Many years later"],
  descriptionEndings: [
    "a hero finds the way home.",
    "old friends uncover a secret.",
    "a family learns to forgive.",
    "everything changes in one night.",
    "a chance meeting changes a life.",
  ],
};

/** The 26 genres, each with its name and, for most, a description. */
export const genres: readonly { name: string; description: string | null }[] = [
  { name: "Action", description: "Chases, fights and explosions." },
  { name: "Adventure", description: "Journeys to far places." },
  { name: "Animation", description: null },
  { name: "Biography", description: "Lives of real people." },
  { name: "Comedy", description: "Made to make you laugh." },
  { name: "Crime", description: null },
  { name: "Documentary", description: "Real events, real people." },
  { name: "Drama", description: "Serious stories about people." },
  { name: "Family", description: "For all ages." },
  { name: "Fantasy", description: null },
  { name: "History", description: "The past brought to life." },
  { name: "Horror", description: "Made to frighten." },
  { name: "Music", description: null },
  { name: "Боевик", description: "Погони, драки и взрывы." },
  { name: "Вестерн", description: "Дикий Запад." },
  { name: "Военный", description: "Фильмы о войне." },
  { name: "Детектив", description: "Расследования и загадки." },
  { name: "Мелодрама", description: null },
  { name: "Мюзикл", description: "Песни и танцы." },
  { name: "Приключения", description: "Путешествия и открытия." },
  { name: "Семейный", description: null },
  { name: "Спорт", description: "Победы и поражения." },
  { name: "Триллер", description: "Напряжение до конца." },
  { name: "Фантастика", description: "Будущее и другие миры." },
  { name: "Фэнтези", description: null },
  { name: "Ужасы", description: "Страшные истории." },
];
